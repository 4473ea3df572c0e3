//! `lab bench throughput`: placeholder, filled in below.
