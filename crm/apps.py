from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import core_sections, roles

        core_sections.register_core()
        post_migrate.connect(roles.sync_after_migrate, dispatch_uid="crm_roles_sync")
