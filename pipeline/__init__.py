"""The Prefect-free core of benchmint: what a build, a refresh and an evaluation do.

`flows/` wires these functions into Prefect (tasks, artifacts, task-run names); everything a test
needs to reach lives here and runs without Prefect. Dependencies point down: pipeline imports
generators, validators, corpora and benchmint; none of those imports pipeline or flows.
"""
