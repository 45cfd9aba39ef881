"""Training institutions (培训) category plugin: courses that teach sellers and their staff."""
