"""customer.created: announced for every new account, however it was made (sign-up, social
sign-in, admin). A signal is the right tool here: it only tells the outside world."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.dispatch import receiver

from .services import webhook_event_emit


@receiver(post_save, sender=get_user_model(), dispatch_uid="webhooks_customer_created")
def customer_created(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        webhook_event_emit(
            event="customer.created",
            payload={"customer_id": instance.pk, "created_at": instance.date_joined},
        )
