from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial")]

    operations = [
        migrations.RenameField("webhookrequest", "error", "notes"),
        migrations.AlterField(
            model_name="webhookrequest",
            name="notes",
            field=models.CharField(
                blank=True,
                help_text="Why we answered as we did: the routing reasons, or what was wrong.",
                max_length=200,
            ),
        ),
        migrations.AddField(
            model_name="webhookrequest",
            name="degraded",
            field=models.BooleanField(
                default=False,
                help_text="Answered from the last-known list while the database was down.",
            ),
        ),
            migrations.AlterField(
            model_name='call',
            name='result',
            field=models.CharField(choices=[('in-progress', 'In progress'), ('answered', 'Answered'), ('not-answered', 'Not answered'), ('abandoned', 'Abandoned')], default='in-progress', max_length=20),
        ),
        migrations.AlterField(
            model_name='webhookrequest',
            name='endpoint',
            field=models.CharField(choices=[('dial-whom', 'Dial Whom'), ('passthru', 'Passthru'), ('agent-status', 'Agent status (keypad)'), ('connect', 'Programmable Connect'), ('connect-events', 'Connect events')], max_length=20),
        ),
        ]
