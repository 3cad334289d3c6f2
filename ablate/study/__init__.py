"""One study: its storage, the ask/tell session, the lock, the fingerprint of its inputs, the
trials table (columns, counts, best trial) and the facts of its last run."""
