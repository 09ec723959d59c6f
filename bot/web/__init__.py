"""The website page with the citizens' chat widget (port 8080, `python -m bot.web`)."""
