"""The routing preview shows the first answer as Programmable Connect's JSON too."""

import html
import json

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_preview_page_shows_the_connect_answer(supervisor_client, roster):
    support = roster["support"]
    support.batch_size, support.parallel_ringing, support.record = 2, True, True
    support.save()

    page = supervisor_client.get(reverse("supervisor-preview", args=["support"]))

    text = page.content.decode()
    start = text.index('<details id="preview-connect">')
    block = text[text.index("<pre>", start) + 5 : text.index("</pre>", start)]
    answer = json.loads(html.unescape(block))
    assert answer["destination"]["numbers"] == [
        str(roster["asha"].phone),
        str(roster["bala"].phone),
    ]
    assert answer["parallel_ringing"] == {"activate": True, "max_parallel_attempts": 2}
    assert answer["record"] is True
    assert "test-token" not in text
