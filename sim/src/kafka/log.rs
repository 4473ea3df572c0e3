//! STUB: being written by a helper.
