//! Hosts, processes, faults. (Being written.)
