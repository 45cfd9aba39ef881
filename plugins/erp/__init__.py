"""ERP systems and integrations (ERP对接) category plugin."""
