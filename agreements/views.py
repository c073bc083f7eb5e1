from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .access import get_practice
from .forms import PracticeForm


@require_http_methods(["GET", "POST"])
def practice_edit(request):
    practice = get_practice(request)
    form = PracticeForm(request.POST or None, instance=practice)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your practice details are saved."))
        return redirect("dashboard")
    return render(request, "agreements/practice_form.html", {"form": form, "practice": practice})
