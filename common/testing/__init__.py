"""Support for the test suite that is not a fixture: imported by conftest.py files and by .ci/run's tools."""
