"""What a sensor asks before it requests a run: is one of this job's runs already on its way?

A sensor that launched a run must not launch another for the same work while the first is
queued behind the writer lane or running; the run key alone does not stop that once the state
the key was built from changes (a retry is recorded, an approval comes in).
"""

import dagster as dg

IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def run_in_flight(context: dg.SensorEvaluationContext, job_name: str) -> bool:
    runs = context.instance.get_runs(
        filters=dg.RunsFilter(job_name=job_name, statuses=IN_FLIGHT), limit=1
    )
    return bool(runs)
