-- One database per service: each owns its data.
CREATE DATABASE echo_users;
CREATE DATABASE echo_messages;
CREATE DATABASE echo_ai;
