from django.urls import path

from . import views

app_name = "comments"

urlpatterns = [
    path("post/<int:article_id>/", views.post_comment, name="post"),
    path("token/", views.csrf_token, name="token"),
    path("<int:comment_id>/", views.permalink, name="permalink"),
    path("<int:comment_id>/reply/", views.reply_form, name="reply"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
