from django.urls import path

from . import views

app_name = "shop"

urlpatterns = [
    path("", views.home, name="home"),
    path("products/", views.product_list, name="product_list"),
    path("c/<slug:slug>/", views.product_list, name="category"),
    path("p/<slug:slug>/", views.product_detail, name="product"),
    path("cart/", views.cart_detail, name="cart"),
    path("cart/add/", views.cart_add, name="cart_add"),
    path("cart/items/<int:item_id>/", views.cart_update, name="cart_update"),
    path("cart/items/<int:item_id>/remove/", views.cart_remove, name="cart_remove"),
    path("cart/code/", views.cart_code_add, name="cart_code_add"),
    path("cart/code/remove/", views.cart_code_remove, name="cart_code_remove"),
    path("checkout/", views.checkout, name="checkout"),
    path("orders/<str:number>/thanks/", views.order_confirmation, name="order_confirmation"),
    path("orders/<str:number>/", views.order_detail, name="order_detail"),
    path("account/orders/", views.my_orders, name="my_orders"),
]
