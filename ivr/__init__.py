"""The application shell: app factory, config, CLI, Twilio webhooks and REST gateway, the call simulator."""
