import pytest
from django.core.exceptions import ValidationError

from registry.relationships import validate_relationship


@pytest.mark.parametrize(
    "value",
    [
        "世帯主",
        "妻",
        "夫",
        "子",
        "子の子",
        "妻の父",
        "子の妻",
        "子の子の子の子",
        "妻(未届)",
        "夫（未届）",
        "縁故者",
        "同居人",
        "母の姉",
    ],
)
def test_allowed(value):
    validate_relationship(value)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("孫", "子の子"),
        ("祖父", "父の父"),
        ("長男", "子"),
        ("子の子の子の子の子", "縁故者"),
        ("友人", "記載できません"),
        ("子の", "記載できません"),
        ("", "記載できません"),
        ("家事使用人", "同居人"),
    ],
)
def test_refused(value, fragment):
    with pytest.raises(ValidationError) as err:
        validate_relationship(value)
    message = err.value.error_list[0]
    assert fragment in (message.message % message.params if message.params else message.message)
