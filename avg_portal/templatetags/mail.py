"""`{{ error|mail_error }}`: an email's delivery error as the coach reads it."""

from django import template

from avg_portal.emails import shown_mail_error

register = template.Library()
register.filter("mail_error", shown_mail_error)
