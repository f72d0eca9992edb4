"""Accessible names for the inputs of ``list_editable`` columns in the Django admin.

Django renders those inputs without a ``<label>`` (axe: "Form elements must have labels",
critical), so a screen reader hears "checkbox, checked" for every row. ``LabelledListEditable``
gives each one an ``aria-label`` made of the column and the row, e.g. "Active: Harbour Jacket".
"""

from django.contrib import admin


class LabelledListEditable(admin.ModelAdmin):
    """Mix into a ``ModelAdmin`` that has ``list_editable``.

    Guarantees: every input of a ``list_editable`` column of the change list has an
    ``aria-label`` ``"<field verbose name>: <str(row object)>"`` (capitalised, at most 120
    characters). Changes nothing else of the formset; raises nothing of its own.
    """

    def get_changelist_formset(self, request, **kwargs):
        formset_class = super().get_changelist_formset(request, **kwargs)
        editable = list(self.list_editable)

        class Labelled(formset_class):
            def _construct_form(self, i, **form_kwargs):
                form = super()._construct_form(i, **form_kwargs)
                row = str(form.instance)[:80]
                for name in editable:
                    field = form.fields.get(name)
                    if field is not None:
                        label = f"{str(field.label or name).capitalize()}: {row}"[:120]
                        field.widget.attrs["aria-label"] = label
                return form

        return Labelled
