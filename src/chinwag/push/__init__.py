"""Push notifications to phones and browsers: FCM (HTTP v1) and APNs (HTTP/2).

``templates`` renders a Service's ``Notifications.<Event>.Template``; ``payloads`` shapes one
push for each provider as the twilio-chat SDK parses it; ``credentials`` reads a stored
Credential as a provider needs it; ``fcm`` and ``apns`` talk to the providers; ``providers``
is the one object a process sends through; ``outcomes`` says what each answer means.
"""
