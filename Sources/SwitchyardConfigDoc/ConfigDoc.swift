// Issue 5 groundwork: see README.md (written with the implementation).
