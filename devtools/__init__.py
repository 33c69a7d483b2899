"""Development tools, never part of the product: the dummy-data generator (devtools.dummy), the simulated J-LIS
(devtools.simulators), instances of this system as processes on loopback for the end-to-end tests and benchmarks
(devtools.instances), `make run`'s supervisor (devtools.run_all), and the management commands that use them
(seed_dummy, create_demo_users, run_jlis_simulator).

The `devtools` Django app is installed by config/settings.py only when this package is importable (a checkout), and
config/settings_production.py removes it; the Docker image does not contain the folder. No product module imports it
(devtools/tests/test_out_of_production.py).
"""
