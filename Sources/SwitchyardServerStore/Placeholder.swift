// Issue 5 groundwork: the config server store (being written).
