//! Kafka's protocol primitives (`org.apache.kafka.common.protocol.types`): big-endian integers,
//! `STRING` as an int16 length and UTF-8, `BYTES` as an int32 length, arrays as an int32 count.
//! Used for the consumer protocol's subscriptions and assignments and for the records of
//! `__consumer_offsets`, so both are the bytes Kafka 0.9 writes.

use thiserror::Error;

/// Bytes that do not decode.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The buffer ended early.
    #[error("Error reading field: buffer underflow")]
    Underflow,
    /// A negative length where none is allowed.
    #[error("Error reading field: negative length {0}")]
    NegativeLength(i32),
    /// A string that is not UTF-8.
    #[error("Error reading field: invalid UTF-8 string")]
    Utf8,
    /// A schema version this code does not know.
    #[error("Unknown schema version {0}")]
    UnknownVersion(i16),
}

/// Appends Kafka primitives to a buffer.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    /// The bytes so far.
    pub buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Writer::default()
    }
    /// INT16.
    pub fn i16(&mut self, v: i16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// INT32.
    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// INT64.
    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// STRING (lengths above `i16::MAX` are cut, as no real caller sends them).
    pub fn string(&mut self, v: &str) -> &mut Self {
        let bytes = &v.as_bytes()[..v.len().min(i16::MAX as usize)];
        self.i16(bytes.len() as i16);
        self.buf.extend_from_slice(bytes);
        self
    }
    /// BYTES.
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.i32(v.len() as i32);
        self.buf.extend_from_slice(v);
        self
    }
    /// The finished buffer.
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

/// Reads Kafka primitives from a buffer.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Underflow)?;
        let s = self.buf.get(self.pos..end).ok_or(DecodeError::Underflow)?;
        self.pos = end;
        Ok(s)
    }
    /// INT16.
    pub fn i16(&mut self) -> Result<i16, DecodeError> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }
    /// INT32.
    pub fn i32(&mut self) -> Result<i32, DecodeError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// INT64.
    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }
    /// STRING.
    pub fn string(&mut self) -> Result<String, DecodeError> {
        let n = self.i16()?;
        if n < 0 {
            return Err(DecodeError::NegativeLength(n as i32));
        }
        let b = self.take(n as usize)?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError::Utf8)
    }
    /// BYTES.
    pub fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let n = self.i32()?;
        if n < 0 {
            return Err(DecodeError::NegativeLength(n));
        }
        Ok(self.take(n as usize)?.to_vec())
    }
    /// An array count (bounded by what the buffer could hold, so garbage cannot allocate).
    pub fn count(&mut self) -> Result<usize, DecodeError> {
        let n = self.i32()?;
        if n < 0 {
            return Err(DecodeError::NegativeLength(n));
        }
        if n as usize > self.buf.len().saturating_sub(self.pos) {
            return Err(DecodeError::Underflow);
        }
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_round_trip() {
        let bytes =
            Writer::new().i16(-2).i32(7).i64(1 << 40).string("héllo").bytes(&[1, 2]).finish();
        assert_eq!(&bytes[..2], &[0xff, 0xfe]);
        let mut r = Reader::new(&bytes);
        assert_eq!(r.i16(), Ok(-2));
        assert_eq!(r.i32(), Ok(7));
        assert_eq!(r.i64(), Ok(1 << 40));
        assert_eq!(r.string().as_deref(), Ok("héllo"));
        assert_eq!(r.bytes(), Ok(vec![1, 2]));
        assert_eq!(r.i16(), Err(DecodeError::Underflow));
        assert_eq!(Reader::new(&[0, 0, 0, 9]).count(), Err(DecodeError::Underflow));
        assert_eq!(Reader::new(&[0xff, 0xff]).string(), Err(DecodeError::NegativeLength(-1)));
    }
}
