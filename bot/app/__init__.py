"""The use cases: one module per thing a person (or an event) asks promobot to do.

Each use case gathers state through the ports (``bot.ports``), decides in ``bot.core`` and
applies the result; ``cli.py`` builds the :class:`~bot.app.context.Context` and calls it.
This map is the way in (docs/ARCHITECTURE.md explains the layers):

=====================================  ==========================================
``promobot …`` / ``/…`` / event         module:function
=====================================  ==========================================
``init``                               ``init:init``
``validate``                           ``validate:validate``
``status``, ``/status``                ``status:status`` (``comment`` formats the reply)
``history``                            ``history:history_rows``
``diff``                               ``diff:diff``
``promote`` (``--all``)                ``promote:promote`` (``promote:promote_all``)
``merge N``, ``/promote``              ``promote:merge`` (then ``promote:chain``)
``gates N``, ``/retest``               ``evaluate:evaluate_pr``
``rollback``                           ``rollback:rollback``
``/rollback [VERSION]``                ``rollback:rollback_from_pr``
``reject``, ``unreject``               ``reject:reject``, ``reject:unreject``
``verify``                             ``verify:run``
``sync``                               ``sync:sync``
``site``                               ``site:site``
``pr list``, ``pr show N``             ``pulls:list_prs``, ``pulls:show``
``pr comment`` / a PR comment          ``comment:handle_comment`` (every slash-command)
``pr review`` / a review               ``events:on_review``
``handle-event`` (any GitHub event)    ``events:dispatch`` → ``push:on_push``,
                                       ``push:on_check_rerequest``,
                                       ``schedule:on_schedule``, …
=====================================  ==========================================

Shared machinery, below the use cases (any of them may import these, never the reverse):

- ``context`` — the Context, the policy and rejected.yaml of a commit, name checks;
- ``records`` — what promobot itself recorded (write records, verification checks);
- ``authority`` — who may do what (slash-commands, direct commits);
- ``facts`` — a promobot PR's facts (``pr_context``) and branch state;
- ``evidence`` — what gates judge, gathered through the ports;
- ``blockers`` — what keeps a PR from merging besides gates and approvals;
- ``assess`` — one function for any kind of promobot PR (``assess``, ``assess_pr``);
- ``apply`` — applying a plan, and direct commits by compare-and-swap;
- ``restore`` — the rollback commit; ``deployments`` — GitHub Deployments after a verify;
- ``batch`` — many items in one event, within the rate limit.

Imports go one way: a module imports only modules listed before it in
``tests/test_architecture.py``'s layer order; nothing here imports ``bot.cli``.
"""
