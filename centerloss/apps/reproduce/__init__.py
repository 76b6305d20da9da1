"""``python -m centerloss reproduce``: the paper's MNIST experiment (Sec. 4.1, Fig. 3).

Trains the paper's LeNet++ with the authors' published settings
(:class:`~centerloss.apps.reproduce.settings.PaperSettings`) once per λ, from the same initial
weights and data order, then writes the demo's figures, ``metrics.json`` and
a Markdown report. It is a long job and behaves like one:

* the lessons' progress line (``centerloss.live.TrainingProgress``), with the
  time left in the run: updated in place on a terminal, a few lines per run in
  a log file;
* a checkpoint per run after every epoch (weights, centers, optimizer and
  metric state, snapshots so far, step), written atomically; the data order
  is a function of (seed, step), so it needs no saving;
* several training steps per call into TensorFlow, as ``fit`` runs them;
* ``resume=True`` continues from the checkpoints and gives the same weights,
  centers and numbers as an uninterrupted run; Ctrl-C finishes the current
  call (at most 32 steps), saves a checkpoint and says how to resume (a second Ctrl-C quits at
  once; then, as after a killed process, training resumes from the last
  epoch's checkpoint);
* a finished run leaves a small result file, ``snapshots_lambda-<λ>.npz``
  (its snapshots, metrics, time and machine), which is all ``resume`` needs
  to keep it: a sweep can be finished a few λ at a time, on other machines,
  with the checkpoints deleted in between (they do not belong in git).

Where this differs from the Caffe release (see docs/reproducing.md):
Algorithm 1 moves the centers by c_j ← c_j − α·Δc_j directly, while Caffe
feeds Δc_j to its solver (learning rate, momentum); centers start at 0 rather
than random; biases learn at the base rate (Caffe: twice it); each epoch is a
fresh seeded shuffle (Caffe reads its database in order).

Its modules: ``settings`` (the authors' settings), ``trainer`` (one run, step
by step), ``checkpoint`` (one-file checkpoints), ``results`` (a finished run's
result file), ``report`` (figures, metrics.json, report.md) and ``job`` (the
command: every run of the job, then the outputs). Import from them: this
package imports nothing, so that the command line's ``--help`` needs no TensorFlow.
"""
