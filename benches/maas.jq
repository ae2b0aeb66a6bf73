# The runbooks' reads of `maas <profile> machines read`, over the keys the phase-00/01
# gates read: each host's status, power and tags (seed 001, seed 002 step 7:
# `jq -r '.[]|select(.hostname|test(...))|"\(.hostname)\t\(.status_name)"'`), and the
# carve-verify loop over every interface's STATIC links (seed 004: "assert all four hosts
# show the six expected static links on the right fabrics -- currently an ad-hoc jq
# loop"), with each bridge's type and parents.
.[]
| "\(.hostname)\t\(.system_id)\t\(.status_name)\t\(.power_state)\t\(.tag_names | join(","))",
  (.interface_set[]
   | . as $i
   | "\t\($i.name)\t\($i.type)\t\($i.params | if type == "object" then .bridge_type // "" else "" end)\t\($i.parents | join(","))\t\($i.vlan.vid // "")",
     ($i.links[]
      | select(.mode == "static")
      | "\t\t\(.ip_address)\t\(.subnet.cidr)"))
