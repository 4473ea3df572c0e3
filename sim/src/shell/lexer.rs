//! Shell-line lexing. STUB: replaced by the parsers helper.
