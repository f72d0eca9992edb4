from django.contrib import admin

from .models import Connection


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["follower", "followed", "kind", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["follower", "followed"]
    search_fields = ["follower__email", "followed__email"]
