//! Payloads are JSON objects. serde's derived structs would also take an array of their
//! fields in order (`"location": [null, 13.7, 100.5]`); the wire format does not, so the
//! payload and its nested objects are read through [`ObjectOnly`], which asks the JSON
//! deserializer for a map wherever a struct is wanted. Paths of bad fields are kept.

use serde::de::{Deserialize, Deserializer, Visitor};

/// A deserializer that reads structs only from objects.
pub struct ObjectOnly<D>(pub D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

/// A nested struct field, from an object only.
pub fn required<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    T::deserialize(ObjectOnly(d))
}

/// An optional nested struct field: `null` or an object.
pub fn optional<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    struct Opt<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Opt<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object or null")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Option<T>, D2::Error> {
            required(d).map(Some)
        }
    }
    d.deserialize_option(Opt(std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    use crate::parse_wire_event;

    const RECEIVED: &str = r#"{"id":"01890a5d-ac96-774b-bcce-b302099a8057","stream":"C-1","type":"received","occurred_at":"2024-01-06T09:30:00+07:00","actor":"a","data":DATA}"#;

    fn parse(data: &str) -> Result<(), String> {
        parse_wire_event(&RECEIVED.replace("DATA", data))
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn payloads_and_nested_objects_are_objects_not_arrays() {
        let ok = r#"{"category":"road","channel":"web","district":"d","subject":"s","complainant":{"anonymous":true},"location":{"lat":13.7}}"#;
        assert_eq!(parse(ok), Ok(()));
        let location = ok.replace(r#"{"lat":13.7}"#, "[null, 13.7, 100.5]");
        assert!(parse(&location).unwrap_err().contains("data.location"));
        let complainant = ok.replace(r#"{"anonymous":true}"#, "[true]");
        assert!(parse(&complainant)
            .unwrap_err()
            .contains("data.complainant"));
        let payload = r#"["road","web",{"anonymous":true},null,"d",null,null,"s"]"#;
        assert!(parse(payload).is_err());
        assert_eq!(parse(&ok.replace(r#"{"lat":13.7}"#, "null")), Ok(()));
    }
}
