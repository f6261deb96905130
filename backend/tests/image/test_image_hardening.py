"""Nothing in the image lets the service user gain privileges or change the application."""

import pytest

from tests.image import docker_helpers as dh

pytestmark = pytest.mark.image


def test_no_program_is_setuid_or_setgid(image: str, lab: dh.Lab) -> None:
    # The base image ships 11 (su, passwd, mount, chfn, ...); the service never needs one.
    # Searched as root, so that no folder is left out.
    code, output = lab.run(
        image, ["sh", "-c", "find / -xdev -type f -perm /6000 -print; echo done"], user="0"
    )
    assert code == 0, output
    assert output.split() == ["done"], output


def test_nothing_under_app_is_writable_by_the_service_user(image: str, lab: dh.Lab) -> None:
    # `find -writable` asks the kernel (access(2)) as the user the container runs as.
    code, output = lab.run(image, ["sh", "-c", "id -u; find /app -writable -print; echo done"])
    assert code == 0, output
    uid, *writable = output.split()
    assert uid == "10001"
    assert writable == ["done"], writable
