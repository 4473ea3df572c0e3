//! The operator's shell language (contract 1 of the design brief).

pub mod lexer;
