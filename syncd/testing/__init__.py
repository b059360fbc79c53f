"""Test support shipped with syncd: in-memory fakes, the fake-HTTP-server base, contract tests."""
