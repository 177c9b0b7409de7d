import factory

from customers.models import Customer
from taqsit.tests.factories import MerchantFactory


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Customer {n}")
    # Valid North American numbers in E.164: +1 415 555 01xx is reserved for fiction and parses as valid.
    phone = factory.Sequence(lambda n: f"+1415{2000000 + n:07d}")
    language = "en"
