"""The default program: digital onboarding for the smallest customers (domain section 10): a welcome on day 0,
enablement emails on days 7, 14, 30, 60 and 90, and an NPS survey at the end of onboarding (day 90) repeated
about every six months (182 days). Admins edit the templates, pause it, or add programs."""

from decimal import Decimal

from django.db import migrations

KEY = "digital-onboarding"
SIGN = "\n\n{{ tam.name }}\n"
STEPS = [
    (
        "Welcome",
        "email",
        0,
        None,
        "Welcome to Tamarind, {{ account.name }}",
        "Hello {{ contact.first_name }},\n\nWelcome aboard! Over the next weeks we will send you a few short "
        "emails to help {{ account.name }} get value quickly. Start with the getting started guide: "
        "https://docs.example.com/getting-started" + SIGN,
    ),
    (
        "Set up CI/CD",
        "email",
        7,
        None,
        "Your first pipeline in 10 minutes",
        "Hello {{ contact.first_name }},\n\nTeams that run a pipeline in their first week get value twice as fast. "
        "Here is how: https://docs.example.com/ci/quick-start" + SIGN,
    ),
    (
        "Invite your team",
        "email",
        14,
        None,
        "Bring your team to {{ account.name }}'s workspace",
        "Hello {{ contact.first_name }},\n\nInvite your developers and set up groups and permissions: "
        "https://docs.example.com/admin/users" + SIGN,
    ),
    (
        "Security scanning",
        "email",
        30,
        None,
        "Turn on security scanning",
        "Hello {{ contact.first_name }},\n\nOne line in your pipeline adds dependency and code scanning: "
        "https://docs.example.com/security/scanning" + SIGN,
    ),
    (
        "Approvals and compliance",
        "email",
        60,
        None,
        "Approvals, gates and compliance",
        "Hello {{ contact.first_name }},\n\nProtect your main branch and require approvals: "
        "https://docs.example.com/compliance/approvals" + SIGN,
    ),
    (
        "Webinars and what next",
        "email",
        90,
        None,
        "What next for {{ account.name }}",
        "Hello {{ contact.first_name }},\n\nJoin our enablement webinars, live or on demand: "
        "https://webinars.example.com" + SIGN,
    ),
    (
        "How are we doing?",
        "nps",
        90,
        182,
        "How likely are you to recommend us?",
        "Hello {{ contact.first_name }},\n\nOne question, ten seconds: how likely are you to recommend us to a "
        "colleague?\n\n{{ survey_url }}" + SIGN,
    ),
]


def seed(apps, schema_editor):
    Program = apps.get_model("journeys", "Program")
    Step = apps.get_model("journeys", "Step")
    Persona = apps.get_model("contacts", "Persona")
    program, created = Program.objects.get_or_create(
        key=KEY,
        defaults={
            "name": "Digital onboarding",
            "description": "The first 90 days of the smallest customers, then an NPS survey every six months.",
            "engagement_models": ["digital", "pooled"],
            "min_arr": Decimal("5000"),
            "max_arr": Decimal("20000"),
            "track": True,
        },
    )
    if not created:
        return
    program.personas.set(Persona.objects.filter(key__in=["admin", "development-lead"]))
    for position, (name, kind, day, repeat, subject, body) in enumerate(STEPS):
        Step.objects.create(
            program=program,
            name=name,
            kind=kind,
            day=day,
            repeat_days=repeat,
            subject=subject,
            body=body,
            position=position,
        )


def unseed(apps, schema_editor):
    apps.get_model("journeys", "Program").objects.filter(key=KEY).delete()


class Migration(migrations.Migration):
    dependencies = [("journeys", "0001_initial"), ("contacts", "0002_default_personas")]
    operations = [migrations.RunPython(seed, unseed)]
