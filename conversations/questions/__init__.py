"""Questions on a figure, both ways: the WCO Secretariat (or, later, a peer reviewer) and a
Member's NCPs talk about a figure until it is settled. The graph is in ``questions.mmd``.

- ``buttons`` and ``steps``: this flow's buttons and conversation steps;
- ``texts``: what each side reads (thread, history, figures by their labels);
- ``ask``: opening a thread (``/ask``, a flag of ``/checks``, a Member's view);
- ``answer``: replies both ways, "the figure is correct", Resolve, Reopen, history, free text;
- ``change``: "Ask to change this KPI" on a submitted Member, Approve / Decline, the amendment;
- ``deliver``: every stored message to the other side, through the outbox;
- ``listing``: ``/questions`` and the counts in ``/status``;
- ``notify``: ``/notify`` and the Secretariat's notices of submissions and amended KPIs;
- ``flow``: the router (commands, buttons, typed text) and the hook run after every update.

Kept apart from the other flows on purpose; their files only call in here.
"""
