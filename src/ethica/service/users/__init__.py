"""Staff users (admin, officer, reviewer) and the API keys of applications."""
