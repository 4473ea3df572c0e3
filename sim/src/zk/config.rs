//! zoo.cfg and myid parsing (`QuorumPeerConfig`). STUB: replaced by the parsers helper.
