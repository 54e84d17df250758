"""Helpers shared by the test suite (fixtures keep their logic here, conftest.py stays small)."""
