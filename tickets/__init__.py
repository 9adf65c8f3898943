"""The ticket domain and its persistence: models, routing, callback queue, consultant API and console."""
