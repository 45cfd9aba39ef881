"""Store operations / agency (代运营) category plugin."""
