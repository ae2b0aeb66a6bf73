//! A serde adapter that makes the typed parse of a JSON document refuse a key given
//! twice in any object, in the same pass: in the objects a model reads (serde keeps the
//! last of a map's duplicates and ignores unknown keys, so `default-space` given twice
//! would pass on the second) and in every value it ignores (walked by
//! [`integrity`](super::integrity)'s checking visitor instead of skipped).
//!
//! Before this, every document was read twice, once by the walk that refuses damage and
//! once by the typed parse (issue 13). The walk still runs, but only when this parse
//! fails: it names the damage, which wins over what the model refused.
//!
//! How: [`Strict`] wraps a deserializer and every visitor, map, sequence and enum it
//! hands out, as `serde_ignored` and `serde_path_to_error` do; a map's keys are caught
//! on their way to the model's key type ([`CaptureKey`]) and compared when the object
//! ends (sorted for a large object, no hashing per key).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};

use super::integrity::{Keys, Whole};

/// A deserializer whose every object refuses a duplicate key.
pub struct Strict<D> {
    inner: D,
}

impl<D> Strict<D> {
    pub fn new(inner: D) -> Self {
        Self { inner }
    }

    fn split<V>(self, visitor: V) -> (D, Wrap<V>) {
        (self.inner, Wrap(visitor))
    }
}

/// The message of the error a duplicate raises; [`super::parse_json_bytes`] then walks
/// the document to name where ([`super::integrity::walk_json`]).
pub const DUPLICATE: &str = "duplicate key";

/// Every method of a deserializer that hands its inner deserializer a wrapped visitor
/// (`self.split(visitor)` gives both), but `deserialize_ignored_any`, which each
/// wrapper decides.
macro_rules! forward_deserialize {
    () => {
        forward_deserialize! {
            deserialize_any() deserialize_bool() deserialize_i8() deserialize_i16()
            deserialize_i32() deserialize_i64() deserialize_i128() deserialize_u8()
            deserialize_u16() deserialize_u32() deserialize_u64() deserialize_u128()
            deserialize_f32() deserialize_f64() deserialize_char() deserialize_str()
            deserialize_string() deserialize_bytes() deserialize_byte_buf()
            deserialize_option() deserialize_unit() deserialize_seq() deserialize_map()
            deserialize_identifier()
            deserialize_unit_struct(name: &'static str)
            deserialize_newtype_struct(name: &'static str)
            deserialize_tuple(len: usize)
            deserialize_tuple_struct(name: &'static str, len: usize)
            deserialize_struct(name: &'static str, fields: &'static [&'static str])
            deserialize_enum(name: &'static str, variants: &'static [&'static str])
        }
    };
    ($($method:ident($($arg:ident: $ty:ty),*))*) => {
        $(
            fn $method<V: Visitor<'de>>(
                self,
                $($arg: $ty,)*
                visitor: V,
            ) -> Result<V::Value, D::Error> {
                let (inner, visitor) = self.split(visitor);
                inner.$method($($arg,)* visitor)
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    forward_deserialize! {}

    /// A value the model does not read is still walked whole: a duplicate key in it is
    /// damage as much as in a value a gate reads.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let Whole = self.inner.deserialize_any(super::integrity::WholeVisitor)?;
        visitor.visit_unit()
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// A visitor whose maps, sequences, options and enums stay strict.
struct Wrap<V>(V);

macro_rules! forward_visit {
    ($($method:ident($ty:ty))*) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
                self.0.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    forward_visit! {
        visit_bool(bool) visit_i8(i8) visit_i16(i16) visit_i32(i32) visit_i64(i64)
        visit_i128(i128) visit_u8(u8) visit_u16(u16) visit_u32(u32) visit_u64(u64)
        visit_u128(u128) visit_f32(f32) visit_f64(f64) visit_char(char) visit_str(&str)
        visit_borrowed_str(&'de str) visit_string(String) visit_bytes(&[u8])
        visit_borrowed_bytes(&'de [u8]) visit_byte_buf(Vec<u8>)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.0.visit_some(Strict::new(d))
    }

    fn visit_newtype_struct<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.0.visit_newtype_struct(Strict::new(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(StrictSeq(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(StrictMap {
            inner: map,
            keys: Keys::new(),
            seen: [0; 4],
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.0.visit_enum(StrictEnum(data))
    }
}

/// A seed whose value is read strictly.
struct StrictSeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for StrictSeed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Strict::new(d))
    }
}

struct StrictSeq<A>(A);

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for StrictSeq<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(StrictSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// An object whose keys are kept until it ends, then compared.
struct StrictMap<'de, A> {
    inner: A,
    keys: Keys<'de>,
    /// One bit per key seen, of 256, by [`key_bit`]: a key whose bit is clear was not
    /// seen and is compared with none (most keys differ in length or in the bytes the
    /// bit is taken from).
    seen: [u64; 4],
}

/// A key's bit in [`StrictMap::seen`] (word, mask): from its length and its first,
/// middle and last bytes.
fn key_bit(key: &str) -> (usize, u64) {
    let b = key.as_bytes();
    let at = |i: usize| b.get(i).copied().map_or(0, usize::from);
    let h = b.len().wrapping_mul(31)
        ^ at(0).wrapping_mul(7)
        ^ at(b.len() / 2).wrapping_mul(3)
        ^ at(b.len().wrapping_sub(1));
    ((h >> 6) & 3, 1 << (h & 63))
}

/// Up to this many keys an object's keys are compared as each arrives (most with none,
/// by their bits); past it, sorted once the object ends. MAAS's machine objects hold
/// about 80 keys, its interfaces about 30.
const SCAN_KEYS: usize = 64;

impl<'de, A: MapAccess<'de>> StrictMap<'de, A> {
    fn note(&mut self, key: Option<Cow<'de, str>>) -> Result<(), A::Error> {
        // A key the model's key type took other than as a string (a number) is not
        // caught; no model here keys a JSON object by number.
        let Some(key) = key else { return Ok(()) };
        if self.keys.len() < SCAN_KEYS {
            let (word, bit) = key_bit(&key);
            if self.seen[word] & bit != 0 && self.keys.contains(&key) {
                return Err(de::Error::custom(DUPLICATE));
            }
            self.seen[word] |= bit;
        }
        self.keys.push(key);
        Ok(())
    }

    fn finish(&mut self) -> Result<(), A::Error> {
        if self.keys.len() > SCAN_KEYS {
            self.keys.sort_unstable();
            if self.keys.windows(2).any(|w| w[0] == w[1]) {
                return Err(de::Error::custom(DUPLICATE));
            }
        }
        Ok(())
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for StrictMap<'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let mut caught = None;
        let key = self.inner.next_key_seed(CaptureKey {
            seed,
            caught: &mut caught,
        })?;
        match key {
            Some(key) => {
                self.note(caught)?;
                Ok(Some(key))
            }
            None => {
                self.finish()?;
                Ok(None)
            }
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.next_value_seed(StrictSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// The seed of a map key, catching the key's text on its way to the model's key type.
struct CaptureKey<'c, 'de, K> {
    seed: K,
    caught: &'c mut Option<Cow<'de, str>>,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for CaptureKey<'_, 'de, K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<K::Value, D::Error> {
        self.seed.deserialize(KeyDeserializer {
            inner: d,
            caught: self.caught,
        })
    }
}

struct KeyDeserializer<'c, 'de, D> {
    inner: D,
    caught: &'c mut Option<Cow<'de, str>>,
}

impl<'c, 'de, D> KeyDeserializer<'c, 'de, D> {
    fn split<V>(self, visitor: V) -> (D, KeyVisitor<'c, 'de, V>) {
        (self.inner, KeyVisitor(visitor, self.caught))
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeyDeserializer<'_, 'de, D> {
    type Error = D::Error;

    forward_deserialize! {}
    forward_deserialize! { deserialize_ignored_any() }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// Passes a key on to the model's key visitor (`.0`), keeping its text (`.1`).
struct KeyVisitor<'c, 'de, V>(V, &'c mut Option<Cow<'de, str>>);

impl<'de, V: Visitor<'de>> Visitor<'de> for KeyVisitor<'_, 'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    forward_visit! {
        visit_bool(bool) visit_i8(i8) visit_i16(i16) visit_i32(i32) visit_i64(i64)
        visit_i128(i128) visit_u8(u8) visit_u16(u16) visit_u32(u32) visit_u64(u64)
        visit_u128(u128) visit_f32(f32) visit_f64(f64) visit_char(char)
        visit_bytes(&[u8]) visit_borrowed_bytes(&'de [u8]) visit_byte_buf(Vec<u8>)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        *self.1 = Some(Cow::Owned(v.to_owned()));
        self.0.visit_str(v)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        *self.1 = Some(Cow::Borrowed(v));
        self.0.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        *self.1 = Some(Cow::Owned(v.clone()));
        self.0.visit_string(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.0.visit_some(d)
    }

    fn visit_newtype_struct<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.0.visit_newtype_struct(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(map)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.0.visit_enum(data)
    }
}

struct StrictEnum<A>(A);

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for StrictEnum<A> {
    type Error = A::Error;
    type Variant = StrictVariant<A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        let (value, variant) = self.0.variant_seed(seed)?;
        Ok((value, StrictVariant(variant)))
    }
}

struct StrictVariant<A>(A);

impl<'de, A: de::VariantAccess<'de>> de::VariantAccess<'de> for StrictVariant<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.0.newtype_variant_seed(StrictSeed(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Wrap(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, Wrap(visitor))
    }
}
