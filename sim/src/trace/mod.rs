//! Structured trace events. (Being written.)
