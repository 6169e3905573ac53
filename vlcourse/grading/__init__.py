"""Grading a class, as a pipeline of stages, each a subpackage:

* ``intake`` — what was handed in: submission folders, nbgrader's layouts, LMS downloads (Canvas,
  Moodle), zips inside hand-ins, due dates and lateness;
* ``sandbox`` — the OS boundary around student code: bubblewrap, the warm zygote and fork server,
  the runner that executes the notebook and answers calls over a narrow protocol, limits and timing;
* ``suite`` — the hidden-test API: the pytest plugin that scores a suite, the ``student`` fixture,
  probes that run inside the runner, the contract and the tolerances;
* ``results`` — grades.csv and feedback, the class report, the nbgrader gradebook, LMS import files;
* ``integrity`` — beside the pipeline: copy detection and the diagnosis of known mistakes;
* ``authoring`` — beside it too: an assignment's configuration, ``vlcourse verify`` (with mutation
  testing) and the variants of the solution it grades.

The drivers stay at the top: :mod:`~vlcourse.grading.grade` grades one submission,
:mod:`~vlcourse.grading.workers` is what each grading process does, and
:mod:`~vlcourse.grading.classroom` (locally) and :mod:`~vlcourse.grading.cluster` (on Dask) grade a class.
"""
