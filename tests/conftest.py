"""Shared test configuration; the aiozkreg plugin's fixtures come from its entry point."""

pytest_plugins = ["pytester"]
