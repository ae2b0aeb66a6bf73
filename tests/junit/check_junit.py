#!/usr/bin/env python3
"""Reads a JUnit XML report the way a real consumer does, and checks it.

    /opt/stackgate/junit/bin/python tests/junit/check_junit.py [--ascii] FILE...

1. The bytes: UTF-8 (an XML declaration, if any, says UTF-8), no CR (LF line ends
   only); with --ascii, nothing outside ASCII. Then Python's stdlib ElementTree must
   parse it (well-formed), the root must be <testsuites>, and the root and every
   <testsuite> must carry integer tests/failures/errors/skipped attributes.
2. junitparser (tests/junit/requirements.txt) loads it with JUnitXml.fromfile and every
   suite and case is read through its API. Each suite's declared counts must equal
   what junitparser recomputes from its cases (update_statistics), the root's the sum
   of its suites'; every testcase has a non-empty name and classname and at most one
   result; every failure and error has a non-empty message.

Each FILE is checked in turn. On success prints one line of JSON per file on stdout
and exits 0:
  {"suites", "tests", "failures", "errors", "skipped",
   "cases": [{"suite", "classname", "name", "time", "result" (pass|failure|error|skipped),
              "message", "type", "text", "system_out", "system_err", "properties"}],
   "properties": {suite name: {property name: value}}}
On any violation prints the file and the reasons on stderr and exits 1 (after checking
every file).
"""

import json
import re
import sys
import xml.etree.ElementTree as ET

from junitparser import Error, Failure, JUnitXml, Skipped
from junitparser.xunit2 import TestCase as XUnit2TestCase

COUNTS = ("tests", "failures", "errors", "skipped")
RESULTS = ((Failure, "failure"), (Error, "error"), (Skipped, "skipped"))


class Invalid(Exception):
    pass


def check_bytes(path, ascii_only):
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Invalid(f"not UTF-8: {e}")
    decl = re.match(r"<\?xml[^>]*\bencoding\s*=\s*[\"']([^\"']+)", text)
    if decl and decl.group(1).lower() != "utf-8":
        raise Invalid(f"XML declaration says encoding={decl.group(1)!r}, not UTF-8")
    if "\r" in text:
        line = text.count("\n", 0, text.index("\r")) + 1
        raise Invalid(f"contains CR (first on line {line}): line ends must be LF only")
    if ascii_only:
        for i, ch in enumerate(text):
            if ord(ch) > 0x7F:
                line = text.count("\n", 0, i) + 1
                raise Invalid(f"non-ASCII character {ch!r} on line {line}")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise Invalid(f"not well-formed XML: {e}")
    if root.tag != "testsuites":
        # junitparser would silently wrap a bare <testsuite> root in a <testsuites>.
        raise Invalid(f"root element is <{root.tag}>, not <testsuites>")
    # junitparser computes a missing count attribute on read (IntAttr.__get__ calls
    # update_statistics), which would hide it: require them here, on the raw XML.
    for n, elem in enumerate([root] + root.findall("testsuite")):
        where = "<testsuites>" if n == 0 else f"<testsuite name={elem.get('name')!r}>"
        for attr in COUNTS:
            value = elem.get(attr)
            if value is None or not re.fullmatch(r"[0-9]+", value):
                raise Invalid(f"{where} {attr}={value!r}: not a non-negative integer")


def case_record(suite_name, case, errors):
    where = f"testcase {suite_name}/{case.classname}/{case.name}"
    if not case.name:
        errors.append(f"{where}: empty or missing name")
    if not case.classname:
        errors.append(f"{where}: empty or missing classname")
    results = case.result  # the Failure / Error / Skipped children
    if len(results) > 1:
        errors.append(f"{where}: {len(results)} results, at most one allowed")
    record = {
        "suite": suite_name,
        "classname": case.classname,
        "name": case.name,
        "time": case.time,
        "result": "pass",
        "message": None,
        "type": None,
        "text": None,
        "system_out": case.system_out,
        "system_err": case.system_err,
        # Case-level <properties>: only junitparser's xunit2 TestCase reads them.
        "properties": {p.name: p.value for p in XUnit2TestCase.fromelem(case).properties()},
    }
    if results:
        result = results[0]
        kind = next(k for cls, k in RESULTS if isinstance(result, cls))
        if kind in ("failure", "error") and not result.message:
            errors.append(f"{where}: <{kind}> without a non-empty message attribute")
        record.update(result=kind, message=result.message, type=result.type, text=result.text)
    return record


def check(path, ascii_only=False):
    check_bytes(path, ascii_only)
    xml = JUnitXml.fromfile(path)
    errors = []
    cases, properties, sums = [], {}, dict.fromkeys(COUNTS, 0)
    suites = list(xml)
    for suite in suites:
        if not suite.name:
            errors.append("a testsuite has an empty or missing name")
        if suite.name in properties:
            errors.append(f"testsuite name {suite.name!r} used twice")
        props = {}
        for p in suite.properties():
            if p.name in props:
                errors.append(f"testsuite {suite.name!r}: property {p.name!r} twice")
            props[p.name] = p.value
        properties[suite.name] = props
        declared = {k: getattr(suite, k) for k in COUNTS}
        suite.update_statistics()  # recomputes the counts from the suite's cases
        for k in COUNTS:
            actual = getattr(suite, k)
            sums[k] += actual
            if declared[k] != actual:
                errors.append(
                    f"testsuite {suite.name!r}: {k}={declared[k]} declared, cases hold {actual}"
                )
        cases.extend(case_record(suite.name, case, errors) for case in suite)
    for k in COUNTS:
        declared = getattr(xml, k)
        if declared != sums[k]:
            errors.append(f"<testsuites> {k}={declared} declared, its suites sum to {sums[k]}")
    if errors:
        raise Invalid("\n".join(errors))
    return {"suites": len(suites), **sums, "cases": cases, "properties": properties}


def main(argv):
    args = argv[1:]
    ascii_only = "--ascii" in args
    args = [a for a in args if a != "--ascii"]
    if not args:
        print(f"usage: {argv[0]} [--ascii] FILE...", file=sys.stderr)
        return 2
    status = 0
    for path in args:
        try:
            report = check(path, ascii_only)
        except OSError as e:
            print(f"{path}: cannot read: {e}", file=sys.stderr)
            status = 1
            continue
        except (Invalid, ValueError) as e:  # ValueError: junitparser on a non-numeric time
            print(f"{path}: invalid JUnit XML:\n{e}", file=sys.stderr)
            status = 1
            continue
        print(json.dumps(report, ensure_ascii=True))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
