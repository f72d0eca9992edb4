"""Create the staff roles (Marketing, Support, Moderator, Admin) with least privilege.

Permissions are created first (Django makes them only after the whole migrate otherwise);
``crm.roles.roles_sync`` also runs after every later ``migrate`` so apps that land afterwards
join the right roles.
"""

from django.db import migrations


def create_roles(apps, schema_editor):
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.contenttypes.management import create_contenttypes

    from crm.roles import roles_sync

    for app_config in global_apps.get_app_configs():
        if app_config.models_module is None:
            continue
        create_contenttypes(app_config, verbosity=0, apps=apps)
        create_permissions(app_config, verbosity=0, apps=apps)
    roles_sync(apps=apps)


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=["Marketing", "Support", "Moderator", "Admin"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
