"""Factories for the tenancy models; amounts are fixed Decimals so tests can assert exact values."""

import factory

from taqsit.models import Merchant, Role, User

TEST_PASSWORD = "Counter-Pass-2026"


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"Shop {n}")
    currency = "USD"
    timezone = "UTC"
    language = "en"
    country = "US"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    merchant = factory.SubFactory(MerchantFactory)
    role = Role.CLERK
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()
