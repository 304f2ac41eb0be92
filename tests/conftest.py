import pytest

from tests.program import STACKS, Program, declared_program


@pytest.fixture(params=STACKS)
def program(request) -> Program:
    """The shipped program of each stack (dev, prod, local, ...), declared under mocks."""
    return declared_program(request.param)
