"""The hidden-test API: the pytest plugin, the ``student`` fixture, probes that run inside the runner, the contract and the tolerances."""
