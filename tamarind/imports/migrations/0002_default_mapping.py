"""Seed the default mapping (a Salesforce account report). Admins edit it afterwards; this runs once."""

from django.db import migrations

HEADERS = {
    'crm_id': ['Account ID', 'Account ID (18)', 'CRM ID', 'Account Id'],
    'name': ['Account Name', 'Name'],
    'parent': ['Parent Account ID', 'Parent ID', 'Parent Account ID (18)'],
    'region': ['Region', 'Sales Region', 'Account Region'],
    'segment': ['Sales Segment', 'Segment', 'Account Segment'],
    'arr': ['CARR (This Account)', 'ARR', 'Annual Recurring Revenue', 'CARR'],
    'currency': ['Currency', 'Account Currency', 'ARR Currency'],
    'product_tier': ['Products Purchased', 'Product Tier', 'Tier', 'Plan'],
    'licenses': ['Number of Licenses', 'Licenses', 'Seats', 'License Count'],
    'priority': ['Priority', 'Account Priority', 'TAM Priority'],
    'engagement_model': ['Engagement Model'],
    'tam': ['Technical Account Manager', 'TAM'],
    'sal': ['Account Owner', 'SAL', 'AE', 'SAL/AE', 'Strategic Account Leader'],
    'sa': ['Solutions Architect', 'SA'],
    'customer_since': ['Customer Since', 'Customer Since Date', 'Contract Start Date'],
    'next_renewal_date': ['Next Renewal Date', 'Renewal Date'],
    'lifecycle_stage': ['Lifecycle Stage', 'Lifecycle'],
    'collaboration_url': ['Collaboration Space', 'Collaboration Space URL', 'Collaboration Project'],
}
SYNONYMS = {
    "segment": {"MM": "Mid-Market", "ENT": "Enterprise", "Small Business": "SMB"},
    "lifecycle_stage": {"Optimise and Grow": "Optimize and Grow", "Churn": "Will Churn"},
}


def seed(apps, schema_editor):
    ImportMapping = apps.get_model("imports", "ImportMapping")
    if not ImportMapping.objects.filter(is_default=True).exists():
        ImportMapping.objects.get_or_create(
            name="Salesforce account report",
            defaults={
                "description": "The default: column names of a Salesforce account report.",
                "is_default": True,
                "headers": HEADERS,
                "synonyms": SYNONYMS,
                "version": 1,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("imports", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
