//! Virtual network. (Being written.)
/// Placeholder.
pub struct Net; /// Placeholder.
pub struct Conn; /// Placeholder.
pub struct Listener; /// Placeholder.
pub struct NetError; /// Placeholder.
pub trait Wire {}
