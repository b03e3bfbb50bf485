import { createApp } from 'vue';
import urql from '@urql/vue';
import App from './App.vue';
import { client } from './api/client';
import { router } from './router';
import './styles/main.css';

createApp(App).use(urql, client).use(router).mount('#app');
