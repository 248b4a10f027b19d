"""Where each command lives: "module:attribute", imported only when the command runs.

Keeping the map here (instead of importing every command module) is what keeps
`crmkit --help` fast: a help listing needs names and one-line help, not code.
"""

from __future__ import annotations

#: Top-level commands that are not record kinds.
COMMANDS: dict[str, tuple[str, str]] = {
    # name: (module:attribute, one-line help shown by `crmkit --help`)
    "init": ("crmkit.cli.init:init", "Create a workspace (a git repository with crmkit.yaml)."),
    "show": ("crmkit.cli.records:show", "Show a record and everything related to it."),
    "set": ("crmkit.cli.records:set_", "Set or unset fields of a record."),
    "edit": ("crmkit.cli.records:edit", "Edit a record in $EDITOR; invalid results are refused."),
    "rm": ("crmkit.cli.records:rm", "Remove a record (refused while others reference it)."),
    "history": ("crmkit.cli.records:history", "Who changed a record, when and what, from git."),
    "check": ("crmkit.cli.check:check", "Validate every record, reference and rule file."),
    "schema": ("crmkit.cli.check:schema", "Write a JSON Schema per kind for editors."),
    "route": ("crmkit.cli.route:route", "Apply routing and triage rules to records."),
    "offer": ("crmkit.cli.offer:offer", "Render offers from deals."),
    "mail": ("crmkit.cli.mail:mail", "Render emails into the outbox and send them."),
    "segment": ("crmkit.cli.segment:segment", "Saved queries (smart lists)."),
    "tick": ("crmkit.cli.tick:tick", "Time-driven work for cron: SLA clocks, escalations, follow-ups."),
    "dedupe": ("crmkit.cli.dedupe:dedupe", "List likely duplicate contacts or companies."),
    "merge": ("crmkit.cli.dedupe:merge", "Merge one record into another."),
    "completion": ("crmkit.cli.completion:completion", "Print a shell completion script."),
    "merge-file": ("crmkit.cli.merge_file:merge_file", "git's merge driver for record files (field by field)."),
    "merge-branch": ("crmkit.cli.merge_file:merge_branch", "git merge REF, record files merged in one process."),
    "sync": ("crmkit.cli.sync:sync", "Pull (merging with crmkit's driver), check, push."),
}

#: Commands of the record-kind groups beyond the generic `add` and `list`.
KIND_COMMANDS: dict[str, dict[str, tuple[str, str]]] = {
    "contact": {
        "sentiment": ("crmkit.cli.satisfaction:sentiment", "Log sentiment changes (upset ... loyal) with reasons."),
        "social": ("crmkit.cli.social:social", "Add or remove a social profile (validated, normalised)."),
    },
    "company": {},
    "lead": {
        "add": ("crmkit.cli.lead:add", "Add a lead (fields as KEY=VALUE, or a JSON form on stdin)."),
        "qualify": ("crmkit.cli.lead:qualify", "Mark a lead qualified."),
        "disqualify": ("crmkit.cli.lead:disqualify", "Mark a lead disqualified, with a reason."),
        "convert": ("crmkit.cli.lead:convert", "Convert a lead into contact, company and deal."),
        "score": ("crmkit.cli.lead:score", "Show a lead's score and how it was built."),
    },
    "deal": {
        "move": ("crmkit.cli.deal:move", "Move a deal to another stage."),
    },
    "ticket": {
        "list": ("crmkit.cli.ticket:list_", "List tickets with their SLA state, filtered and sorted."),
        "reply": ("crmkit.cli.ticket:reply", "Record a reply on a ticket (ours or the customer's)."),
        "status": ("crmkit.cli.ticket:status", "Change a ticket's status."),
        "assign": ("crmkit.cli.ticket:assign", "Assign a ticket to an owner."),
        "escalate": ("crmkit.cli.ticket:escalate", "Move a ticket to second line by hand."),
        "rate": ("crmkit.cli.satisfaction:rate", "Record the customer's rating (1-5, good/bad) of a ticket."),
        "survey": ("crmkit.cli.satisfaction:survey", "Email a satisfaction survey for solved tickets."),
    },
    "activity": {
        "done": ("crmkit.cli.activity:done", "Mark a follow-up done."),
    },
    "campaign": {
        "send": ("crmkit.cli.campaign:send", "Render a campaign's variants for its segment into the outbox."),
    },
    "event": {
        "register": ("crmkit.cli.event:register", "Register someone for an event (a contact, a lead or a new person)."),
        "attend": ("crmkit.cli.event:attend", "Log who attended an event."),
        "leads": ("crmkit.cli.event:leads", "Make leads of an event's attendees (source: event/ID)."),
    },
}

KIND_HELP: dict[str, str] = {
    "contact": "People: add and list contacts; log their sentiment.",
    "company": "Organisations: add and list companies.",
    "lead": "Prospects and leads: add, list, qualify, convert, score.",
    "deal": "Opportunities: add, list, move through the pipeline.",
    "ticket": "Support cases: add, list, reply, status, assign, escalate, rate, survey.",
    "activity": "Calls, meetings, emails, notes and follow-ups.",
    "campaign": "Campaigns: segment, templates and A/B variants, budget; send; results in `report campaign`.",
    "event": "Seminars and fairs: invitees from a segment, registrations, attendance, leads.",
}

#: Groups whose subcommands live in different modules (each module defines leaf commands).
GROUPS: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "report": ("Reports straight from the files.", {
        "pipeline": ("crmkit.cli.report:pipeline", "Open deals by stage, weighted; won and lost apart."),
        "forecast": ("crmkit.cli.report:forecast", "Expected revenue by month of expected close."),
        "winrate": ("crmkit.cli.report:winrate", "Win rate by count and value, deal size, cycle length."),
        "velocity": ("crmkit.cli.report:velocity", "Time in stage, stage conversion, sales velocity."),
        "stale": ("crmkit.cli.report:stale", "Open deals without recent activity or follow-up."),
        "agenda": ("crmkit.cli.report:agenda", "Follow-ups overdue, today and coming, per owner."),
        "sla": ("crmkit.cli.report_sla:sla", "Support SLA attainment, breaches, backlog."),
        "value": ("crmkit.cli.report_value:value", "Customers by lifetime value, tiers, Pareto, tier movement."),
        "satisfaction": ("crmkit.cli.report_value:satisfaction", "CSAT by month, agent, line, tier; journey."),
        "network": ("crmkit.cli.social:network", "Warm paths into a company: who in our team knows whom."),
        "partners": ("crmkit.cli.partner:partners", "Leads handed to channel partners: accepted, converted, won."),
        "campaign": ("crmkit.cli.campaign:report", "A campaign's results per variant: sent, replies, leads, deals, ROI."),
    }),
    "import": ("Bring records in from spreadsheets and phones.", {
        "csv": ("crmkit.cli.io:import_csv", "Import contacts, companies, leads or deals from CSV."),
        "vcard": ("crmkit.cli.io:import_vcard", "Import contacts from a vCard file."),
    }),
    "inbox": ("Email that arrives: filed on tickets, leads and contacts.", {
        "fetch": ("crmkit.cli.inbox:fetch", "File each new message of a Maildir or IMAP folder, once."),
    }),
    "partner": ("Channel partners: their slice of the workspace, out and back.", {
        "export": ("crmkit.cli.partner:export", "Write a partner's slice as a git repository of its own."),
        "import": ("crmkit.cli.partner:import_", "Take back what a partner changed in their slice."),
    }),
    "export": ("Take records out again.", {
        "csv": ("crmkit.cli.io:export_csv", "Export records as CSV (formula-safe)."),
        "json": ("crmkit.cli.io:export_json", "Export records as JSON."),
        "vcard": ("crmkit.cli.io:export_vcard", "Export contacts as vCard."),
        "ics": ("crmkit.cli.report:export_ics", "Export follow-ups as an iCalendar file."),
    }),
}
